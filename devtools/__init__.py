"""The tools behind the make targets, for working on the webhook and deploying it.

- `serve` and `supervise`: `make run`, the function on loopback, restarted when its code changes;
  `webhook_server`: each HTTP request handed to the function as API Gateway's event; `loopback`:
  which requests it answers under the public token; `console`: what it prints; `local_port`: its
  port and URLs; `send`: `make send`, a signed text to it, the replies printed (`twiml_answer`
  reads them);
- `invoke`: `make invoke`, the built artifact run in Lambda's runtime interface emulator;
- `make_event`: `make event` and `make events`, signed API Gateway events (`rest_event`,
  `twilio_message`: the request Twilio makes, signed as Twilio signs it);
- `deploy`: `make deploy` and `make destroy`; `connect`: `make connect`, a Twilio number pointed at
  the deployed webhook;
- `local_token` and `paths`: the token local runs use, and where the project's files are;
  `function_code`: the function imported for `make run` and `make chat`, or one line on why not.

Never deployed: only `handler.py`, `replies.py` and `sms_webhook/` run in Lambda.
"""
