"""Peak graphics and main memory and the time of one configuration; calibration and learning."""
