"""Media library rules: folders, user media, assets, brand kits."""
