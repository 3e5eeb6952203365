"""Delivery: the queues of messages to the outside, each stored in the caller's transaction and sent once.

- :mod:`services.delivery.notifications`: notifications to people (members, establishments, officials) through
  the gateway;
- :mod:`services.delivery.portal`: publications, amendments and withdrawals to the province portal, in order.
- :mod:`services.delivery.document_delivery`: issued violation records and sanction decisions to the violator's
  e-mail, through a :mod:`services.delivery.channels` channel (SMTP; VNeID or SMS later), sent by
  ``services.stages.document_delivery``.

The stages enqueue; the delivery stages (``services.stages.notify``, ``services.stages.portal_delivery``) send what
is due through the clients the composition root opens.
"""
