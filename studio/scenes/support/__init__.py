"""What the kinds share and are built with (none of these is a kind): the scene context,
the Scene protocol, and helpers for the optimising, matching and attributing kinds."""
