FLASK_APP=plugin
