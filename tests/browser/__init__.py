"""The browser workspace in a real browser: Playwright driving Debian's Chromium."""
