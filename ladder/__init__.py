"""The ladder's domain: rules and values, with no Discord and no SQL in them."""
