def load_faces(): pass
