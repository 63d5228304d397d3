"""Activities: the only code that talks to systems outside the workflow (one module per system)."""
