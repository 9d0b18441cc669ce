"""The Train tab: the form, the sweep presets, live curves of a job."""
