app = "routes"
