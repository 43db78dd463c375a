from app.routes import app

print(app)
