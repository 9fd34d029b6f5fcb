"""What people use: the `sanad` command line and the Streamlit workbench."""
