"""Master DB: products and listings, and their import."""
