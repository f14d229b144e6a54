"""Reports and figures (t-SNE of the latent space, timelines, HTML)."""
