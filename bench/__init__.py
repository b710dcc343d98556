"""Benchmarks (scripts, not tests): run each from the repository root as `python -m bench.<name>`.

Their extra packages are pinned in bench/requirements.txt.
"""
