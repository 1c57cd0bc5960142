"""Process-level plumbing for every layer: settings, flow timing, logging, background tasks."""
