"""The check page: the diagnosis in the end user's own browser (served by `trtcdetect serve` at
/check), its upload read back into the run-report model, stored, and listed for support."""
