"""What an instructor runs: ``instructor build``, ``instructor grade``, ``instructor validate``."""
