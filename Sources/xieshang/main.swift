print("xieshang")
