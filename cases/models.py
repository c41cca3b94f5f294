"""Applications, routing, reviews, receipts and payments: built by the intake issue on."""
