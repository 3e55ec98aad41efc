"""Customization tasks: environments with basic and add-on rewards, metrics and defaults."""
