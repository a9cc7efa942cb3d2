"""`{{ user|person }}`: a user as docg names them (docg.orgs.people.person_label)."""

from django import template

from docg.orgs.people import person_label

register = template.Library()


@register.filter
def person(user) -> str:
    return person_label(user)
