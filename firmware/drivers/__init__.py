# Device drivers: byte builders and parsers for the parts a board carries (sans-IO).
