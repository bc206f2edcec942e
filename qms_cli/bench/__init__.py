"""`qms bench`: measure this machine with model-shaped work (or the studio's own runner) and calibrate.

suite.py decides what to measure; worker.py measures it in a separate process with torch and diffusers;
session.py runs the worker, fits (calibration.py) and evaluates; runner.py times an external command.
"""
