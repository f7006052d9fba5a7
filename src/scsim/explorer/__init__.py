"""``scsim explore``: a local, read-only web page over run directories (citizen look-up, run
browser)."""
