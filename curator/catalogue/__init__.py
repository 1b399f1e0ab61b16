"""The track catalogue: tracks with audio features, from seed lists, datasets and providers."""
