import uvicorn

from .main import create_app

app = create_app()
settings = app.state.runtime.settings
uvicorn.run(app, host=settings.http_host, port=settings.port, log_config=None)
