"""The Flask way: Twilio's Flask tutorial app, on Lambda through apig-wsgi. A benchmark reference.

The validation decorator and the view are the ones of Twilio's tutorial ("Secure your Flask App
by Validating Incoming Twilio Requests"); the one addition is what a REST API stage needs for
Flask to see the URL Twilio called: the stage as the WSGI script name.
"""

import os
from functools import wraps

from apig_wsgi import make_lambda_handler
from flask import Flask, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

app = Flask(__name__)


def validate_twilio_request(f):
    """Validates that incoming requests genuinely originated from Twilio"""

    @wraps(f)
    def decorated_function(*args, **kwargs):
        validator = RequestValidator(os.environ.get("TWILIO_AUTH_TOKEN"))
        request_valid = validator.validate(
            request.url, request.form, request.headers.get("X-TWILIO-SIGNATURE", "")
        )
        if request_valid:
            return f(*args, **kwargs)
        return abort(403)

    return decorated_function


@app.route("/sms", methods=["POST"])
@validate_twilio_request
def incoming_sms():
    resp = MessagingResponse()
    resp.message("I'm busy questing right now!")
    return str(resp), 200, {"Content-Type": "text/xml"}


def _with_stage_as_script_name(wsgi_app):
    def wrapped(environ, start_response):
        stage = environ["apig_wsgi.full_event"]["requestContext"].get("stage")
        if stage:
            environ["SCRIPT_NAME"] = f"/{stage}"
        return wsgi_app(environ, start_response)

    return wrapped


app.wsgi_app = _with_stage_as_script_name(app.wsgi_app)
lambda_handler = make_lambda_handler(app)
