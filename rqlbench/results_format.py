"""The on-disk format of a run directory, shared by the runner (writer) and the report (reader).

The version is in config.yaml (store_version) and in every cell file (schema). Bump it when a
result written before no longer reads the same.
"""

STORE_VERSION = 1
