"""Pixel data: one rendering pipeline to 8 bits (web JPEGs, viewer presets, record icons),
the icon encoder, the pixel data encoders and the Transfer Syntax conversion."""
