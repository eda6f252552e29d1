"""The few words Streamlit's own widgets show in English, said in Chinese by a stylesheet.

Owns: one ``<style>`` block (static CSS; no document text ever reaches it) that
replaces the file uploader's "Upload" and "200MB per file" with Chinese. Does not own:
the widgets themselves.
"""

from __future__ import annotations

import streamlit as st

from ingest.loaders import TYPES

_UPLOADER = '[data-testid="stFileUploaderDropzone"]'


def css(max_file_mb: float) -> str:
    hint = f"{TYPES}，单个不超过 {max_file_mb:.0f} MB"
    return f"""<style>
{_UPLOADER} button [data-testid="stMarkdownContainer"] p {{ display: none; }}
{_UPLOADER} button [data-testid="stMarkdownContainer"]::after {{ content: "选择文件"; }}
[data-testid="stFileUploaderDropzoneInstructions"] > div > span {{ display: none; }}
[data-testid="stFileUploaderDropzoneInstructions"] > div::after {{ content: "{hint}"; font-size: 0.75rem; }}
</style>"""


def apply(max_file_mb: float) -> None:
    st.html(css(max_file_mb))
