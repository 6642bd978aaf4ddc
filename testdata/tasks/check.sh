#!/bin/sh
# A program evaluator: the final page's HTML is on the input, the page's
# address in PILOT_URL. It prints the reward.
if grep -q 'Thank you for your order' && [ "${PILOT_URL#*name=Ada}" != "$PILOT_URL" ]; then
  echo 1
else
  echo '{"reward": 0, "reason": "no order for Ada"}'
fi
