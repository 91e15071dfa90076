"""The web app: Gradio wiring, views, exports and the upload library."""
