"""pytest plugin (entry point ``lumi``): emulator fixtures. Filled by the emulator package."""
