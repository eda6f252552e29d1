"""The Streamlit front end's pieces; ``app.py`` is the entry point that assembles them."""
