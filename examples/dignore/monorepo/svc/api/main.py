from app.routes import app
