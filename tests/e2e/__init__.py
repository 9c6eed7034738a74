"""End-to-end tests of the dashboard in headless Chromium (marked `browser`)."""
