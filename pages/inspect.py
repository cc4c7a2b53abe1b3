"""Open a pixel: one run's curvature against its threshold and the landscape it crossed."""

import streamlit as st

st.title("Open a pixel")
