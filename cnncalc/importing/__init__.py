"""Importing a PyTorch model: run it and record what it does (capture.py, tracing.py), read the record
(traced.py) and map each call to a layer (importer.py). With verify, the only packages that import
torch; import it only when reading a module."""
