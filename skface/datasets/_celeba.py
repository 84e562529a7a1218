def load_celeba(): pass
