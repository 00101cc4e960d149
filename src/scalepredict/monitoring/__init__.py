"""Life after launch: input drift against the training data's profile, realized and estimated
performance, fairness by groups of cities, a verdict, and the report."""
