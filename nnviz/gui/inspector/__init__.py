"""The back-propagation inspector: one sample's z, a and δ, layer by layer."""
