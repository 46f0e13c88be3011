"""Fast network and combinatorial algorithms that return their dual certificates."""
