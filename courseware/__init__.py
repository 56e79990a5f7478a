"""Media handling for courseware, independent of Flask and SQLAlchemy: paths in, data out."""
