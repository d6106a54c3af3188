"""`python render.py PRESET...` is `studio render PRESET...`."""
from studio.entry import render_main

if __name__ == "__main__":
    render_main()
