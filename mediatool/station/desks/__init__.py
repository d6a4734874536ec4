"""The desks' request handlers, one module each; each exports ``routes``."""
