"""tierspayant: a third-party payment platform for French complementary health insurers."""
