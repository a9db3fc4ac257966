from serambi_kit.http import serve

from .main import create_app

serve(create_app())
