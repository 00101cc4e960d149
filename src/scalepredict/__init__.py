"""ScalePredict: will a smart-city AI+IoT initiative scale past its pilot, why, and what to do."""

__version__ = "0.1.0"
