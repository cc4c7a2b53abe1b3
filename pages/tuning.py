"""What tuning sees: maps across seeds, and a real tuner's sparse view held against the dense truth."""

import streamlit as st

st.title("What tuning sees")
