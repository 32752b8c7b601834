"""The webhook's machinery: reading Twilio's request, checking its signature, writing TwiML.

Your own replies live in `replies.py` at the top of the project, not here.
"""
