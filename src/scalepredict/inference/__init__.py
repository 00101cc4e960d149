"""Using a trained bundle: scores with risk bands and uncertainty, exact SHAP explanations by
dimension, mitigation plans and what-ifs, explanation plots. Never imports MLflow."""
