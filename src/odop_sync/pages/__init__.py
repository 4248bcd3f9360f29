"""The web pages served by the app itself: the partner dashboard and the agency console."""
